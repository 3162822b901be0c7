using UnityEngine;

namespace Ludex.Unity
{
    /// <summary>
    /// Keeps the player's refresh token in PlayerPrefs, so the game stays signed in across runs
    /// (<see cref="LudexSession.RestoreAsync"/>). PlayerPrefs is plain text on disk: a platform's
    /// keychain is the better home where there is one; implement <see cref="ISessionStorage"/> for it.
    /// </summary>
    public sealed class PlayerPrefsSessionStorage : ISessionStorage
    {
        private readonly string _key;

        public PlayerPrefsSessionStorage(string key = "ludex.refreshToken")
        {
            _key = key;
        }

        public string Load()
        {
            string value = PlayerPrefs.GetString(_key, "");
            return value.Length == 0 ? null : value;
        }

        public void Save(string refreshToken)
        {
            PlayerPrefs.SetString(_key, refreshToken);
            PlayerPrefs.Save();
        }

        public void Clear()
        {
            PlayerPrefs.DeleteKey(_key);
            PlayerPrefs.Save();
        }
    }
}
