import CFuzzDriver
import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Signaling

// libFuzzer target: a client's WebSocket input as the server reads it. The bytes go through
// the WebSocket frame decoder (RFC 6455 §5.2: masking, lengths, the 64 KiB frame limit the
// server sets) and every text frame through `ClientFrame(parsing:)` (the /ws protocol); a frame
// that fails is answered with an `error` frame, which must always encode, whatever the client
// wrote into its `id` or `type`. With the first byte 0x7B ("{") the input is one text frame.

func fuzzClientFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if size > 0 && input[0] == 0x7B {
        parse(String(decoding: input, as: UTF8.self))
        return 0
    }
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 64 * 1024)))
        var buffer = channel.allocator.buffer(capacity: size)
        buffer.writeBytes(input)
        try channel.writeInbound(buffer)
        while let frame = try channel.readInbound(as: WebSocketFrame.self) {
            var payload = frame.unmaskedData
            if frame.opcode == .text, let text = payload.readString(length: payload.readableBytes) { parse(text) }
        }
    } catch {
        return 0  // a protocol error: the server closes the connection
    }
    return 0
}

private func parse(_ text: String) {
    do {
        _ = try ClientFrame(parsing: text)
    } catch {
        let answer = ServerFrame.error(id: error.id, error.error)
        precondition(!answer.text.isEmpty, "an error frame did not encode")
    }
}

@main
enum ClientFrameFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzClientFrame))
    }
}
