using System;
using System.Collections.Generic;
using Ludex;
using Ludex.Unity;
using UnityEngine;

namespace Ludex.Samples
{
    /// <summary>
    /// Add to any GameObject, fill in the four fields from your project's API key page (or
    /// `.ludex/demo-credentials.json` of a local `ludex serve`), press Play, then "Award 460 XP".
    /// The label shows the level; the realtime events of each award appear below it.
    /// A shipped game keeps the API key on its own server; this sample is for trying the API.
    /// </summary>
    public sealed class LudexQuickstart : MonoBehaviour
    {
        public string baseUrl = "http://127.0.0.1:8000";
        public string tenantId = "demo";
        public string projectId = "demo";
        public string apiKey = "";

        private LudexClient _ludex;
        private LudexRealtime _realtime;
        private string _playerId;
        private string _status = "starting";
        private readonly List<string> _events = new List<string>();

        private async void Start()
        {
            _ludex = LudexUnity.CreateClient(new LudexOptions { BaseUrl = baseUrl, TenantId = tenantId, ProjectId = projectId, ApiKey = apiKey });
            _playerId = "unity-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            try
            {
                await _ludex.Players.CreateAsync(_playerId, _playerId);
                _status = "player " + _playerId + " level=1 xp=0";
#if !UNITY_WEBGL || UNITY_EDITOR
                _realtime = LudexUnity.Realtime(_ludex, new[] { "player.*" });
                _realtime.EventReceived += OnEvent; // runs on the main thread
                _realtime.Error += error => Debug.LogWarning(error.Message);
                await _realtime.StartAsync();
#endif
            }
            catch (LudexException error)
            {
                _status = error.Message;
            }
        }

        private void OnEvent(LudexEvent item)
        {
            if (item.PlayerId != _playerId) return;
            _events.Add(item.Type + " " + Json.Serialize(item.Data));
            if (_events.Count > 12) _events.RemoveAt(0);
        }

        public async void AwardXp()
        {
            try
            {
                XpResult award = await _ludex.Players.AwardXpAsync(_playerId, 460, "quickstart");
                _status = "level=" + award.Level + " xp=" + award.Xp;
            }
            catch (LudexException error)
            {
                _status = error.Status + " " + error.Slug + ": " + error.Detail;
            }
        }

        private void OnGUI()
        {
            GUILayout.Label(_status);
            if (_playerId != null && GUILayout.Button("Award 460 XP")) AwardXp();
            foreach (string line in _events) GUILayout.Label(line);
        }

        private async void OnDestroy()
        {
            if (_realtime != null) await _realtime.StopAsync();
            if (_ludex != null) _ludex.Dispose();
        }
    }
}
