#include "Modules/ModuleManager.h"
#include "WebSocketsModule.h"

// Loads WebSockets up front: IWebSocketsModule must exist before the first realtime connect.
class FLudexModule : public IModuleInterface
{
public:
	virtual void StartupModule() override
	{
		FModuleManager::LoadModuleChecked<FWebSocketsModule>(TEXT("WebSockets"));
	}
};

IMPLEMENT_MODULE(FLudexModule, Ludex)
