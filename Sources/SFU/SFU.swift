// SFU module.
