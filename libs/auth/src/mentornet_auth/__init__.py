"""Identity for the whole network: the registry issues tokens, every service verifies them here."""

from mentornet_auth.principal import AccessDenied, Principal, Role
from mentornet_auth.tokens import InvalidToken, SigningKey, TokenIssuer, TokenVerifier

__all__ = ["AccessDenied", "InvalidToken", "Principal", "Role", "SigningKey", "TokenIssuer", "TokenVerifier"]
