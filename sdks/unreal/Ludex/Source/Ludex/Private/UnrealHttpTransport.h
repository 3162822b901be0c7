// ludex::HttpTransport on FHttpModule. Blocking by contract, so it must run off the game
// thread: ULudexSubsystem runs every call on the thread pool.
#pragma once

#include "CoreMinimal.h"
#include "LudexCoreIncludes.h"

class FLudexUnrealHttpTransport final : public ludex::HttpTransport
{
public:
	virtual ludex::HttpResponse send(const ludex::HttpRequest& Request) override;
};
