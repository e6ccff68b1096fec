@testable import DTLS
import Testing

@Suite("the libsrtp this process runs")
struct SRTPLibraryTests {
    @Test("the linked libsrtp and its crypto backend are reported")
    func buildIsReported() {
        let description = SRTPLibrary.buildDescription
        print("libsrtp under test: \(description)")
        #expect(description.hasPrefix("libsrtp2 2."))
        #expect(description.contains("crypto: NSS") || description.contains("crypto: OpenSSL"))
    }
}
