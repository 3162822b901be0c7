// A game client's view: no API key. It signs a player in by this install's device id, reads the
// player as "me", and shows that a session cannot award itself XP (the game server does that).
// Reads LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID (and LUDEX_DEVICE_ID, else a new one).
using System;
using System.Threading.Tasks;
using Ludex;

public static class SessionExample
{
    public static int Main()
    {
        try
        {
            RunAsync().GetAwaiter().GetResult();
            return 0;
        }
        catch (LudexException error)
        {
            Console.Error.WriteLine(error.Message + " (request " + error.RequestId + ")");
            return 1;
        }
        catch (InvalidOperationException missing)
        {
            Console.Error.WriteLine(missing.Message + ": set LUDEX_BASE_URL, LUDEX_TENANT_ID and LUDEX_PROJECT_ID");
            return 2;
        }
    }

    private static async Task RunAsync()
    {
        string deviceId = Environment.GetEnvironmentVariable("LUDEX_DEVICE_ID") ?? "device-" + Guid.NewGuid().ToString("N");
        // A game passes its own ISessionStorage (PlayerPrefsSessionStorage in Unity) to stay signed in across runs.
        using (var session = new LudexSession(LudexOptions.ForSessionFromEnvironment()))
        using (var ludex = new LudexClient(new LudexOptions { Session = session }))
        {
            bool created = await session.SignInWithDeviceAsync(deviceId);
            Console.WriteLine("signed in as " + session.PlayerId + (created ? " (new player)" : ""));
            Progression progression = await ludex.Players.GetProgressionAsync("me");
            Console.WriteLine("level=" + progression.Level + " xp=" + progression.Xp);
            try
            {
                await ludex.Players.AwardXpAsync("me", 1000000);
            }
            catch (LudexException refused)
            {
                Console.WriteLine("xp award refused: " + refused.Status + " " + refused.Slug);
            }
            await session.LogoutAsync();
        }
    }
}
