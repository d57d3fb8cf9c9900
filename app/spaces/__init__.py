"""Deployment of the two services as Hugging Face Spaces: `build_space` assembles a Space folder from the
repository, `push_space` uploads it (`cli` runs them as commands)."""
