// Subscribes to the realtime socket, awards 460 XP to a new player, and prints that award's
// events (player.xp.added, player.level.updated, player.levelup, ...) as they arrive.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Ludex;

public static class RealtimeExample
{
    public static int Main()
    {
        try
        {
            return RunAsync().GetAwaiter().GetResult();
        }
        catch (LudexException error)
        {
            Console.Error.WriteLine(error.Message);
            return 1;
        }
        catch (InvalidOperationException missing)
        {
            Console.Error.WriteLine(missing.Message + ": set LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID and LUDEX_API_KEY");
            return 2;
        }
    }

    private static async Task<int> RunAsync()
    {
        using (var ludex = new LudexClient(LudexOptions.FromEnvironment()))
        {
            string playerId = "realtime-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            var seen = new HashSet<string>();
            var realtime = ludex.Realtime(new[] { "player.*" });
            realtime.EventReceived += item =>
            {
                if (item.PlayerId != playerId || item.Type == "player.created") return;
                lock (seen) seen.Add(item.Id);
                Console.WriteLine(item.Type + " " + Json.Serialize(item.Data));
            };
            await realtime.StartAsync();
            await ludex.Players.CreateAsync(playerId, playerId);
            await ludex.Players.AwardXpAsync(playerId, 460, "realtime example");
            // The award's events, as the event store has them: wait until each was pushed to us.
            var stored = await ludex.Events.ListAllAsync(new EventQuery { PlayerId = playerId });
            stored.RemoveAll(item => !item.Type.StartsWith("player.", StringComparison.Ordinal) || item.Type == "player.created");
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!stored.TrueForAll(item => { lock (seen) return seen.Contains(item.Id); }))
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine("not every event of the award arrived within 20 s");
                    await realtime.StopAsync();
                    return 1;
                }
                await Task.Delay(50);
            }
            await realtime.StopAsync();
            return 0;
        }
    }
}
