// The quick start: create a player, award 460 XP twice with one idempotency key (the second is a
// replay, not a second award), print the level. Reads LUDEX_BASE_URL, LUDEX_TENANT_ID,
// LUDEX_PROJECT_ID and LUDEX_API_KEY.
using System;
using System.Threading.Tasks;
using Ludex;

public static class Quickstart
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
            Console.Error.WriteLine(missing.Message + ": set LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID and LUDEX_API_KEY");
            return 2;
        }
    }

    private static async Task RunAsync()
    {
        using (var ludex = new LudexClient(LudexOptions.FromEnvironment()))
        {
            string playerId = "quickstart-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            await ludex.Players.CreateAsync(playerId, playerId);
            string key = LudexClient.NewIdempotencyKey();
            await ludex.Players.AwardXpAsync(playerId, 460, "quickstart", key);
            XpResult award = await ludex.Players.AwardXpAsync(playerId, 460, "quickstart", key);
            Console.WriteLine("level=" + award.Level + " xp=" + award.Xp);
        }
    }
}
