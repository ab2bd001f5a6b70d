"""sitegen: publish and search a team's library of agent roles and skills."""

__version__ = "0.1.0"
