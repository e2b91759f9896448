// The facade re-exports the front end, so `import VoxEnc` is enough for apps.
@_exported import VoxEncAudio
