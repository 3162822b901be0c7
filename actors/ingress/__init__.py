"""What runs in each ingress replica (the Serve deployment in front of the shard hosts), not in a
shard host: dashboard accounts, the control plane (tenants, plans, projects, keys), usage meters
and quotas' plan cache, the realtime fan-out hub and webhook subscriptions. Shard hosts never
import from here."""
