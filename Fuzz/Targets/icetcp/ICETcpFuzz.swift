import CFuzzDriver
import Glibc
import ICE

// libFuzzer target: ICE-TCP framing (RFC 6544 §3.1, RFC 4571: a 2-byte length before every
// packet). The first byte of the input chooses how the rest is cut into reads, so frames that
// straddle reads and reads that hold many frames are both explored; every frame is then read as
// STUN, as the server's TCP path does.

func fuzzICETcp(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard size > 0 else { return 0 }
    let chunk = Int(data[0]) % 64 + 1
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var deframer = ICETcpDeframer(maxFrame: 1500)
    var offset = 0
    var frames = 0
    while offset < input.count {
        let end = min(input.count, offset + chunk)
        do {
            try deframer.feed(UnsafeRawBufferPointer(rebasing: input[offset..<end])) { frame in
                precondition(frame.count <= 1500, "a frame over maxFrame was delivered")
                frames += 1
                _ = try? STUNMessageView(parsing: frame)
            }
        } catch {
            return 0  // the server closes the connection here
        }
        offset = end
    }
    precondition(deframer.pending <= 1502, "more buffered than one frame")
    return 0
}

@main
enum ICETcpFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzICETcp))
    }
}
