"""authtokens: revocable JWTs for Django REST framework."""
