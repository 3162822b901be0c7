// ludex::WebSocketTransport on IWebSocketsModule. IWebSocket lives on the game thread, so every
// call is marshalled there; the core's handlers then run on the game thread too.
#pragma once

#include "CoreMinimal.h"
#include "LudexCoreIncludes.h"

class IWebSocket;

class FLudexUnrealWebSocketTransport final : public ludex::WebSocketTransport,
                                             public TSharedFromThis<FLudexUnrealWebSocketTransport, ESPMode::ThreadSafe>
{
public:
	virtual ~FLudexUnrealWebSocketTransport() override;
	virtual void connect(const std::string& Url, const ludex::Headers& Headers, ludex::WebSocketHandlers Handlers) override;
	virtual void send(const std::string& Text) override;
	virtual void close() override;

private:
	void Finish(int32 Code, const FString& Reason);

	TSharedPtr<IWebSocket> Socket;            // game thread only
	ludex::WebSocketHandlers CurrentHandlers;  // game thread only
	bool bFinished = true;                     // game thread only
};
