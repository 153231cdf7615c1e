"""Input data: deal histories, rosters, quotas, FX rates and territory indexes."""
