"""Per-key rate limits of the partner API (scope `partner`); over the limit: 429 with Retry-After."""

from registry.api.throttling import ApiKeyRateThrottle


class PartnerKeyRateThrottle(ApiKeyRateThrottle):
    scope = "partner"
