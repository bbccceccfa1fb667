"""The on-site service record (运维现场服务记录单) pages: write, sign on a phone, print."""
