"""The virtual-actor runtime: shard hosts that keep entities in memory, serialize each
entity's commands, and make every accepted command durable before answering."""
