from .env_compat import apply_env_compat

__all__ = ['apply_env_compat']
