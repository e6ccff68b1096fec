import Testing
@testable import ICE

@Suite struct MediaTransportConfigurationTests {
    @Test func defaultsFollowPROTOCOLmd() {
        let c = MediaTransportConfiguration(environment: [:])
        #expect(c.port == 7882)
        #expect(c.publicIP == nil)
        #expect(!c.iceTCPEnabled)
        #expect(c.consentTimeout == .seconds(30))
    }

    @Test func environmentOverrides() {
        let c = MediaTransportConfiguration(environment: ["RTC_UDP_PORT": "40000", "RTC_PUBLIC_IP": "203.0.113.5", "RTC_ICE_TCP": "true"])
        #expect(c.port == 40000)
        #expect(c.announcedIP == "203.0.113.5")
        #expect(c.iceTCPEnabled)
    }

    @Test func candidateLinesForUDPAndPassiveTCP() {
        #expect(ICECandidateLines.lines(announcedIP: "203.0.113.5", port: 7882, iceTCP: true) == [
            "a=candidate:1 1 udp 2130706431 203.0.113.5 7882 typ host",
            "a=candidate:2 1 tcp 2124414975 203.0.113.5 7882 typ host tcptype passive",
        ])
        #expect(ICECandidateLines.lines(announcedIP: "2001:db8::1", port: 7882, iceTCP: false) == [
            "a=candidate:1 1 udp 2130706431 2001:db8::1 7882 typ host",
        ])
    }

    @Test func firstNonLoopbackAddressIsNotLoopback() {
        if let ip = NetworkInterfaces.firstNonLoopbackAddress() {
            #expect(ip != "127.0.0.1" && ip != "::1")
            #expect(TransportAddress(ip: ip, port: 0) != nil)
        }
        #expect(NetworkInterfaces.addresses().contains { $0.isLoopback })
    }

    @Test func transportAddressParsesAndPrints() {
        #expect(TransportAddress(ip: "192.0.2.1", port: 80)!.description == "192.0.2.1:80")
        #expect(TransportAddress(ip: "2001:db8::1", port: 443)!.description == "[2001:db8::1]:443")
        #expect(TransportAddress(ip: "::ffff:192.0.2.1", port: 80) == TransportAddress(ip: "192.0.2.1", port: 80))
        #expect(TransportAddress(ip: "not an ip", port: 1) == nil)
    }
}
