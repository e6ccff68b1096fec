import ArgumentParser
import Foundation
import ICE
import ObjectStorage
import SFU

/// `parley check`: what this configuration would announce and hand out, and whether its media
/// port and TURN server work, before the server is started (or after a change to its
/// environment file). Reads the environment file the service reads, over the process's own
/// environment, and refuses what `parley serve` would refuse, in the same words.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration: what it announces, whether the media port binds and TURN allocates.")

    @Option(name: .customLong("env-file"), help: "An environment file as systemd's EnvironmentFile= reads it (e.g. /etc/parley/parley.env).")
    var environmentFile: String?

    @Flag(help: "Skip the media port check (for a server that is already running on it).")
    var skipPort = false

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        if let environmentFile {
            guard let text = try? String(contentsOfFile: environmentFile, encoding: .utf8) else {
                print("FAIL cannot read \(environmentFile)")
                throw ExitCode(1)
            }
            do { environment.merge(try EnvironmentFile(parsing: text).values) { _, fromFile in fromFile } } catch {
                print("FAIL \(environmentFile) \(error)")
                throw ExitCode(1)
            }
        }
        let configuration: Configuration
        do { configuration = try Configuration(environment: environment) } catch let error as Configuration.Error {
            print("FAIL \(error.description)")
            throw ExitCode(1)
        }
        var report = CheckReport()
        report.describe(configuration, interfaces: NetworkInterfaces.firstNonLoopbackAddress())
        if !skipPort { report.checkPort(configuration) }
        report.checkTURN(configuration, now: Int(Date().timeIntervalSince1970))
        await report.checkStorage(configuration)
        print(report.lines.joined(separator: "\n"))
        if report.failed { throw ExitCode(1) }
    }
}

/// The findings of `parley check`, as lines: facts indented, results marked `ok`, `warn` or `FAIL`.
struct CheckReport {
    private(set) var lines: [String] = []
    private(set) var failed = false

    mutating func fact(_ name: String, _ value: String) {
        lines.append("  " + name.padding(toLength: 20, withPad: " ", startingAt: 0) + value)
    }

    mutating func result(_ mark: String, _ text: String) {
        if mark == "FAIL" { failed = true }
        lines.append(mark.padding(toLength: 5, withPad: " ", startingAt: 0) + text)
    }

    mutating func describe(_ configuration: Configuration, interfaces firstAddress: String?) {
        fact("HTTP", "\(configuration.host):\(configuration.port)")
        switch configuration.database {
        case .sqlite(let path): fact("database", "SQLite at \(path)")
        case .postgres(let url): fact("database", "PostgreSQL at \(URLComponents(string: url)?.host ?? "?")")
        }
        fact("data", configuration.dataDirectory)
        fact("media port", "\(configuration.rtcUDPPort)/udp" + (configuration.iceTCP ? " and \(configuration.rtcUDPPort)/tcp (ICE-TCP)" : ""))
        if let ip = configuration.rtcPublicIP {
            fact("announced address", "\(ip) (RTC_PUBLIC_IP)")
            if Self.isPrivate(ip) { result("warn", "RTC_PUBLIC_IP \(ip) is a private address: peers outside this network cannot reach it") }
        } else {
            let ip = firstAddress ?? "127.0.0.1"
            fact("announced address", "\(ip) (first interface address: RTC_PUBLIC_IP is not set)")
            if Self.isPrivate(ip) || ip == "127.0.0.1" {
                result("warn", "announcing \(ip), which the internet cannot reach: set RTC_PUBLIC_IP on a cloud VM")
            }
        }
        fact("STUN URLs", configuration.stunURLs.isEmpty ? "none" : configuration.stunURLs.joined(separator: ", "))
        fact("TURN URLs", configuration.turnURLs.isEmpty ? "none (calls from networks that block the media port will fail)"
                                                        : configuration.turnURLs.joined(separator: ", "))
        if configuration.turnSecret != nil {
            fact("TURN credentials", "made with TURN_SECRET, valid \(configuration.turnTTL) s")
        }
    }

    mutating func checkPort(_ configuration: Configuration) {
        guard configuration.rtcUDPPort != 0 else {
            result("ok", "media port 0: the kernel picks one at start (tests only)")
            return
        }
        let port = UInt16(configuration.rtcUDPPort)
        do {
            _ = try MediaSocket(bindAddress: "::", port: port, batchSize: 1, socketBufferBytes: 65536)
        } catch {
            result("FAIL", "cannot bind the media port \(port)/udp: \(error) (is Parley already running? then use --skip-port)")
            return
        }
        if configuration.iceTCP, let problem = Self.bindTCP(port: port) {
            result("FAIL", "cannot bind \(port)/tcp for ICE-TCP: \(problem)")
            return
        }
        result("ok", "media port \(port) binds" + (configuration.iceTCP ? " (UDP and TCP)" : " (UDP)"))
    }

    mutating func checkTURN(_ configuration: Configuration, now: Int) {
        guard let secret = configuration.turnSecret else { return }
        let credentials = TurnCredentials(secret: secret, userId: "parley-check", now: now, ttl: configuration.turnTTL)
        for text in configuration.turnURLs {
            guard let url = TurnURL(text) else {
                result("FAIL", "\(text): not a turn: URL Parley can read")
                continue
            }
            let probe = TurnAllocationProbe(url: url, username: credentials.username, password: credentials.credential)
            switch probe.run() {
            case .granted(let relayed): result("ok", "\(text): allocation granted, relayed address \(relayed)")
            case .failed(let reason): result(url.secure ? "warn" : "FAIL", "\(text): \(reason)")
            }
        }
    }

    /// Whether attachments can be kept where STORAGE_URL says: a folder that takes a file, or a
    /// bucket that accepts Parley's signature (a HEAD of an object that is not there answers
    /// 404; a wrong key or region 403) and whose CORS rules let the site's pages upload.
    mutating func checkStorage(_ configuration: Configuration) async {
        switch configuration.storage {
        case .folder(let path):
            fact("attachments", "folder \(path)")
            let probe = (path as NSString).appendingPathComponent(".parley-check-\(UUID().uuidString)")
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                try Data("check".utf8).write(to: URL(fileURLWithPath: probe))
                try FileManager.default.removeItem(atPath: probe)
                result("ok", "attachments folder \(path) is writable")
            } catch {
                result("FAIL", "cannot write in the attachments folder \(path): \(error.localizedDescription)")
            }
        case .s3(let bucket):
            fact("attachments", "s3 bucket \(bucket.bucket) at \(bucket.endpoint) (\(bucket.region))")
            guard let keys = configuration.s3Keys else { return }
            let storage = S3Storage(bucket: bucket, accessKeyId: keys.id, secretAccessKey: keys.secret, timeout: .seconds(5))
            do {
                _ = try await storage.storedSize(key: "parley-check-\(UUID().uuidString)")
                result("ok", "the bucket accepts Parley's signed requests")
            } catch let error as S3Error where error.status == 403 {
                result("FAIL", "the store refused Parley's signature (403): check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, the region and the bucket")
                return
            } catch {
                result("FAIL", "cannot reach the bucket: \(error)")
                return
            }
            guard let origin = configuration.publicURL else {
                result("warn", "PUBLIC_URL is not set, so the bucket's CORS rule for the site cannot be checked")
                return
            }
            do {
                if try await storage.corsAllows(origin: origin) {
                    result("ok", "the bucket's CORS rules let \(origin) upload and download")
                } else {
                    result("FAIL", "the bucket's CORS rules do not let \(origin) upload (PUT with Content-Type) and download: browsers will fail")
                }
            } catch {
                result("FAIL", "cannot ask the bucket about CORS: \(error)")
            }
        }
    }

    static func bindTCP(port: UInt16) -> String? {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var off: Int32 = 0
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        return status == 0 ? nil : String(cString: strerror(errno))
    }

    /// RFC 1918 and RFC 6598 (carrier-grade NAT) IPv4, and IPv6 unique-local and link-local.
    static func isPrivate(_ ip: String) -> Bool {
        let octets = ip.split(separator: ".").compactMap { UInt8($0) }
        if octets.count == 4 {
            return octets[0] == 10 || (octets[0] == 172 && (16...31).contains(octets[1])) || (octets[0] == 192 && octets[1] == 168)
                || (octets[0] == 100 && (64...127).contains(octets[1])) || (octets[0] == 169 && octets[1] == 254)
        }
        let lower = ip.lowercased()
        return lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe80")
    }
}
