// The facade re-exports the front end and the model, so `import VoxEnc` is enough for apps.
@_exported import VoxEncAudio
@_exported import VoxEncModel
