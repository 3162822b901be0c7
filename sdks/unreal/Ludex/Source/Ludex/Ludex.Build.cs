// The Ludex runtime module: the engine-neutral C++ core (Private/Core, copied from sdks/cpp by
// `make -C sdks/unreal plugin`) plus transports on FHttpModule and IWebSocketsModule.
using System.IO;
using UnrealBuildTool;

public class Ludex : ModuleRules
{
	public Ludex(ReadOnlyTargetRules Target) : base(Target)
	{
		// The core reports failures with C++ exceptions (ludex::LudexError); the plugin catches
		// them at the thread-pool boundary and hands Blueprints plain structs.
		bEnableExceptions = true;
		// The core's .cpp files are plain C++17 and must not be merged with engine code.
		bUseUnity = false;
		PCHUsage = PCHUsageMode.NoPCHs;
		// The core is C++17 and also builds as C++20, the engine's default from 5.3 on.

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });
		PrivateDependencyModuleNames.AddRange(new string[] { "HTTP", "WebSockets" });

		// Core headers (ludex/*.hpp) and nlohmann/json (MIT), copied beside the module.
		PrivateIncludePaths.Add(Path.Combine(ModuleDirectory, "Private", "Core", "include"));
		PrivateIncludePaths.Add(Path.Combine(ModuleDirectory, "Private", "ThirdParty"));
		// No libcurl/websocketpp here: the host passes the Unreal transports.
		PrivateDefinitions.Add("LUDEX_NO_DEFAULT_TRANSPORTS=1");
	}
}
