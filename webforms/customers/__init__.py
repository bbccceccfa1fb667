"""The customer archive (客户档案): organisations, contacts, sites, devices, contracts."""
