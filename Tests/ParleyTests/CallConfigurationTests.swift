import Testing
@testable import parley

@Suite("CALL_MAX_PER_USER")
struct CallConfigurationTests {
    @Test("2 by default, a number, or off")
    func values() throws {
        #expect(try Configuration(environment: [:]).callMaxPerUser == 2)
        #expect(try Configuration(environment: ["CALL_MAX_PER_USER": "5"]).callMaxPerUser == 5)
        #expect(try Configuration(environment: ["CALL_MAX_PER_USER": "off"]).callMaxPerUser == nil)
        #expect(try Configuration(environment: ["CALL_MAX_PER_USER": "OFF"]).callMaxPerUser == nil)
    }

    @Test("anything else is refused, naming the variable", arguments: ["0", "-1", "many", "101"])
    func refused(_ raw: String) {
        #expect {
            _ = try Configuration(environment: ["CALL_MAX_PER_USER": raw])
        } throws: { error in
            (error as? Configuration.Error)?.variable == "CALL_MAX_PER_USER"
        }
    }
}
