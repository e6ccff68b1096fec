import ICE
import Testing
@testable import parley

@Suite("What parley check reads: environment files, turn: URLs, relayed addresses")
struct CheckParsingTests {
    @Test("an environment file is read as systemd reads it")
    func environmentFile() throws {
        let file = try EnvironmentFile(parsing: """
            # comment
            ; also a comment

            RTC_PUBLIC_IP=203.0.113.7
            export LOG_LEVEL = "info"
            TURN_SECRET='with spaces and # hash'
            QUOTED="say \\"hi\\" \\\\ done"
            EMPTY=
            """)
        #expect(file.values == ["RTC_PUBLIC_IP": "203.0.113.7", "LOG_LEVEL": "info", "TURN_SECRET": "with spaces and # hash",
                                "QUOTED": #"say "hi" \ done"#, "EMPTY": ""])
    }

    @Test("Windows line ends are line ends")
    func crlf() throws {
        let file = try EnvironmentFile(parsing: "# saved on Windows\r\nRTC_PUBLIC_IP=203.0.113.7\r\nTURN_SECRET=abc\r\n")
        #expect(file.values == ["RTC_PUBLIC_IP": "203.0.113.7", "TURN_SECRET": "abc"])
    }

    @Test("a line that is not NAME=value is refused with its number", arguments: ["RTC_PUBLIC_IP 1.2.3.4", "=x", "A-B=1"])
    func badLine(_ line: String) {
        #expect(throws: EnvironmentFile.ParseError.self) { _ = try EnvironmentFile(parsing: "A=1\n\(line)\n") }
        #expect { _ = try EnvironmentFile(parsing: "A=1\n\(line)\n") } throws: { ($0 as? EnvironmentFile.ParseError)?.line == 2 }
    }

    @Test("turn: URLs (RFC 7065): default ports and transports, IPv6 literals")
    func turnURLs() throws {
        let plain = try #require(TurnURL("turn:turn.example.com"))
        #expect(plain.host == "turn.example.com" && plain.port == 3478 && plain.transport == .udp && !plain.secure)
        let tcp = try #require(TurnURL("turn:203.0.113.7:3479?transport=tcp"))
        #expect(tcp.host == "203.0.113.7" && tcp.port == 3479 && tcp.transport == .tcp)
        let tls = try #require(TurnURL("turns:turn.example.com"))
        #expect(tls.port == 5349 && tls.transport == .tcp && tls.secure)
        let v6 = try #require(TurnURL("turn:[2001:db8::1]:3478"))
        #expect(v6.host == "2001:db8::1" && v6.port == 3478)
        for bad in ["stun:x", "turn:", "turn:host:0", "turn:host:99999", "turn:host?transport=sctp", "turn:[::1"] {
            #expect(TurnURL(bad) == nil, "\(bad)")
        }
    }

    /// RFC 5769 §2.2 and §2.3: the XOR-MAPPED-ADDRESS values of the sample responses, encoded as
    /// XOR-RELAYED-ADDRESS is (RFC 8656 §18.5).
    @Test("XOR-RELAYED-ADDRESS decodes as RFC 5769's XOR-MAPPED-ADDRESS vectors")
    func xorAddress() {
        let tid = STUNTransactionID([0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae])
        #expect(TurnAllocationProbe.decodeXORAddress([0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43], transactionID: tid)
                == "192.0.2.1:32853")
        let v6: [UInt8] = [0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
                           0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9]
        #expect(TurnAllocationProbe.decodeXORAddress(v6, transactionID: tid) == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(TurnAllocationProbe.decodeXORAddress([0x00, 0x01, 0xa1], transactionID: tid) == nil)
    }

    @Test("private and shared addresses are told apart from public ones")
    func privateAddresses() {
        for ip in ["10.0.0.5", "172.16.0.1", "172.31.255.255", "192.168.1.2", "100.64.0.1", "169.254.1.1", "fd00::1", "fe80::1"] {
            #expect(CheckReport.isPrivate(ip), "\(ip)")
        }
        for ip in ["203.0.113.7", "172.32.0.1", "8.8.8.8", "2001:db8::1"] {
            #expect(!CheckReport.isPrivate(ip), "\(ip)")
        }
    }
}
