"""Profiles: the model, its validation, URIs, the settings file and the keyring store."""
