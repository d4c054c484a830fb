#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a line to standard error.
func printToStandardError(_ text: String) {
    writeUnbuffered(text + "\n", to: STDERR_FILENO)
}

/// Writes text to standard error as it is.
func writeToStandardError(_ text: String) {
    writeUnbuffered(text, to: STDERR_FILENO)
}

/// Writes a line to standard output at once, bypassing stdio's buffer (a ready line must be
/// seen by whoever waits for it, even when standard output is a pipe or a file).
func printUnbuffered(_ text: String) {
    writeUnbuffered(text + "\n", to: STDOUT_FILENO)
}

private func writeUnbuffered(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { return }
            offset += written
        }
    }
}
