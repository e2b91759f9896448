// Ctrl-C (SIGINT), SIGTERM or SIGHUP while an output is being written would leave its hidden temporary files
// (`.NAME.npy.tmp-XXXXXX`, gigabytes for a long recording) behind: the writers clean up after errors, not after
// signals. The handler removes them (`AtomicFileWriter.removeTemporaryFiles()`: unlink(2) on paths registered before
// each file was created), restores the default action and re-raises the signal, so that the exit status still says
// which signal ended the process (130 for Ctrl-C in a shell).

@preconcurrency import Glibc
import VoxEnc

enum InterruptCleanup {
    /// Installs the handlers. Call once, on the main thread, before any output is written. A signal ignored at start
    /// stays ignored (`voxenc … &` in a script ignores SIGINT, `nohup` SIGHUP); one inherited blocked is unblocked
    /// on this thread (a parent's runtime can leave its own mask on the children it spawns), so that it is delivered.
    static func install() {
        AtomicFileWriter.prepareForSignalHandlers()
        var unblock = sigset_t()
        sigemptyset(&unblock)
        let ignored = unsafeBitCast(SIG_IGN, to: Int.self)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            var current = sigaction()
            sigaction(signalNumber, nil, &current)
            if let handler = current.__sigaction_handler.sa_handler, unsafeBitCast(handler, to: Int.self) == ignored { continue }
            sigaddset(&unblock, signalNumber)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                AtomicFileWriter.removeTemporaryFiles()
                signal(signalNumber, SIG_DFL)
                raise(signalNumber)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
