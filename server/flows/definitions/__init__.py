"""Process definitions: deploying versions, reading them, the engine that runs them."""
