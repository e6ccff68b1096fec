/// The SDP text the SFU benchmark's synthetic peers write and read. They write only what a
/// WebRTC peer must (RFC 8829 §5.2 offer, §5.3 answer; BUNDLE per RFC 8843; DTLS-SRTP per RFC
/// 5763/8842) and read only what they need of Parley's answers and offers: ICE credentials,
/// the UDP host candidate, the certificate fingerprint, and per m-section its mid, port,
/// payload type and SSRC.
enum SFUBenchSDP {
    /// Extension ids the publishers offer (RFC 8285): the audio level for active-speaker
    /// detection (RFC 6464) and transport-wide sequence numbers for transport-cc feedback.
    static let audioLevelId: UInt8 = 1
    static let transportCCId: UInt8 = 3

    /// Our side of one transport.
    struct Local {
        var ufrag: String
        var pwd: String
        /// `sha-256 AB:...`
        var fingerprint: String
        var port: UInt16
    }

    /// A publisher's offer: one send-only Opus section (mid 0, PT 111) and one send-only VP8
    /// section (mid 1, PT 96), bundled, each announcing its SSRC (RFC 5576) and msid (RFC 8830).
    static func publishOffer(local: Local, sessionId: UInt64, audioSSRC: UInt32, videoSSRC: UInt32, stream: String,
                             transportCC: Bool) -> String {
        var lines = [
            "v=0", "o=- \(sessionId) 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1", "a=msid-semantic: WMS \(stream)",
        ]
        func transport() -> [String] {
            [
                "c=IN IP4 127.0.0.1", "a=ice-ufrag:\(local.ufrag)", "a=ice-pwd:\(local.pwd)", "a=fingerprint:\(local.fingerprint)",
                "a=setup:actpass", "a=rtcp-mux", "a=candidate:1 1 udp 2130706431 127.0.0.1 \(local.port) typ host",
                "a=end-of-candidates",
            ]
        }
        let twcc = "a=extmap:\(transportCCId) http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
        lines += ["m=audio 9 UDP/TLS/RTP/SAVPF 111"] + transport()
        lines += ["a=mid:0", "a=sendonly", "a=msid:\(stream) \(stream)-mic", "a=rtpmap:111 opus/48000/2",
                  "a=fmtp:111 minptime=10;useinbandfec=1",
                  "a=extmap:\(audioLevelId) urn:ietf:params:rtp-hdrext:ssrc-audio-level"]
        if transportCC { lines += ["a=rtcp-fb:111 transport-cc", twcc] }
        lines += ["a=ssrc:\(audioSSRC) cname:\(stream)", "a=ssrc:\(audioSSRC) msid:\(stream) \(stream)-mic"]
        lines += ["m=video 9 UDP/TLS/RTP/SAVPF 96"] + transport()
        lines += ["a=mid:1", "a=sendonly", "a=msid:\(stream) \(stream)-cam", "a=rtpmap:96 VP8/90000",
                  "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 ccm fir"]
        if transportCC { lines += ["a=rtcp-fb:96 transport-cc", twcc] }
        lines += ["a=ssrc:\(videoSSRC) cname:\(stream)", "a=ssrc:\(videoSSRC) msid:\(stream) \(stream)-cam"]
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One m-section of a description Parley wrote, as far as the benchmark reads it.
    struct Section {
        var kind: String
        var port: Int
        var formats: [String]
        var mid: String?
        /// payload type -> `a=rtpmap` / `a=fmtp` value, to mirror in the answer.
        var rtpmaps: [(String, String)] = []
        var fmtps: [(String, String)] = []
        var active: Bool { port != 0 }
    }

    /// What the benchmark reads of an answer or offer from Parley.
    struct Remote {
        var ufrag: String
        var pwd: String
        var fingerprint: String
        /// The UDP host candidate's address and port.
        var candidateIP: String
        var candidatePort: UInt16
        var sections: [Section]
    }

    enum ParseError: Error, CustomStringConvertible {
        case missing(String)
        var description: String {
            switch self {
            case .missing(let what): "Parley's SDP has no \(what)"
            }
        }
    }

    /// Reads credentials, fingerprint and candidate from the first section that has them
    /// (with BUNDLE they are the same in every section), and the m-lines with their mids.
    static func parse(_ sdp: String) throws -> Remote {
        var ufrag: String?, pwd: String?, fingerprint: String?, port: UInt16?, ip = "127.0.0.1"
        var sections: [Section] = []
        for raw in sdp.split(whereSeparator: \.isNewline) {
            let line = Substring(raw)
            if line.hasPrefix("m=") {
                let parts = line.dropFirst(2).split(separator: " ")
                guard parts.count >= 4 else { continue }
                sections.append(Section(kind: String(parts[0]), port: Int(parts[1]) ?? 0, formats: parts[3...].map(String.init)))
            } else if line.hasPrefix("a=mid:"), !sections.isEmpty {
                sections[sections.count - 1].mid = String(line.dropFirst(6))
            } else if line.hasPrefix("a=rtpmap:") || line.hasPrefix("a=fmtp:"), !sections.isEmpty {
                let value = line.drop { $0 != ":" }.dropFirst()
                let parts = value.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                if line.hasPrefix("a=rtpmap:") {
                    sections[sections.count - 1].rtpmaps.append((String(parts[0]), String(parts[1])))
                } else {
                    sections[sections.count - 1].fmtps.append((String(parts[0]), String(parts[1])))
                }
            } else if line.hasPrefix("a=ice-ufrag:"), ufrag == nil {
                ufrag = String(line.dropFirst(12))
            } else if line.hasPrefix("a=ice-pwd:"), pwd == nil {
                pwd = String(line.dropFirst(10))
            } else if line.hasPrefix("a=fingerprint:sha-256 "), fingerprint == nil {
                fingerprint = String(line.dropFirst(14))
            } else if line.hasPrefix("a=candidate:"), port == nil {
                // foundation component transport priority address port typ host
                let parts = line.split(separator: " ")
                if parts.count >= 8, parts[2].lowercased() == "udp" {
                    ip = String(parts[4])
                    port = UInt16(parts[5])
                }
            }
        }
        guard let ufrag, let pwd else { throw ParseError.missing("ice-ufrag/ice-pwd") }
        guard let fingerprint else { throw ParseError.missing("sha-256 fingerprint") }
        guard let port else { throw ParseError.missing("UDP candidate") }
        return Remote(ufrag: ufrag, pwd: pwd, fingerprint: fingerprint, candidateIP: ip, candidatePort: port, sections: sections)
    }

    /// A subscriber's answer to a subscribe offer (RFC 8829 §5.3.1): every offered section
    /// mirrored in order with its mid; live ones `recvonly` with the offered payload types and
    /// `a=setup:active` (Parley offers actpass and is the DTLS server), gone ones port 0.
    static func subscribeAnswer(offer: Remote, local: Local, sessionId: UInt64, version: Int) -> String {
        let live = offer.sections.filter(\.active).compactMap(\.mid)
        var lines = ["v=0", "o=- \(sessionId) \(version) IN IP4 127.0.0.1", "s=-", "t=0 0"]
        if !live.isEmpty { lines.append("a=group:BUNDLE " + live.joined(separator: " ")) }
        lines.append("a=msid-semantic: WMS")
        for section in offer.sections {
            let mid = section.mid ?? ""
            let format = section.formats.first ?? "0"
            guard section.active else {
                lines += ["m=\(section.kind) 0 UDP/TLS/RTP/SAVPF \(format)", "c=IN IP4 0.0.0.0", "a=mid:\(mid)", "a=inactive"]
                continue
            }
            lines += [
                "m=\(section.kind) 9 UDP/TLS/RTP/SAVPF \(section.formats.joined(separator: " "))", "c=IN IP4 127.0.0.1",
                "a=mid:\(mid)", "a=recvonly", "a=ice-ufrag:\(local.ufrag)", "a=ice-pwd:\(local.pwd)",
                "a=fingerprint:\(local.fingerprint)", "a=setup:active", "a=rtcp-mux",
                "a=candidate:1 1 udp 2130706431 127.0.0.1 \(local.port) typ host", "a=end-of-candidates",
            ]
            // Keep the offered codecs' rtpmap/fmtp lines: Parley checks the payload type is kept.
            for pt in section.formats {
                for (type, value) in section.rtpmaps where type == pt { lines.append("a=rtpmap:\(pt) \(value)") }
                for (type, value) in section.fmtps where type == pt { lines.append("a=fmtp:\(pt) \(value)") }
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
