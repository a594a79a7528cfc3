import Testing
@testable import RLMConfig

@Suite struct DotEnvFileTests {
    @Test func readsPlainQuotedAndExportedAssignments() throws {
        let values = try DotEnvFile.parse("""
            # a comment
            PLAIN=value
            export EXPORTED=yes
            DOUBLE="two words"
            SINGLE='keep $literal'
            SPACED = padded   # trailing note

            EMPTY=
            """, source: ".env")
        #expect(values == [
            "PLAIN": "value", "EXPORTED": "yes", "DOUBLE": "two words", "SINGLE": "keep $literal", "SPACED": "padded", "EMPTY": "",
        ])
    }

    @Test func aLineWithoutEqualsNamesFileAndLine() {
        #expect(throws: ConfigError.malformedFile(path: "x/.env", line: 2, reason: "expected KEY=value")) {
            try DotEnvFile.parse("A=1\nnot an assignment\n", source: "x/.env")
        }
    }

    @Test func anInvalidNameIsRefused() {
        #expect(throws: ConfigError.malformedFile(path: ".env", line: 1, reason: "invalid variable name \"BAD-NAME\"")) {
            try DotEnvFile.parse("BAD-NAME=1", source: ".env")
        }
    }

    @Test func aMissingFileIsEmpty() throws {
        #expect(try DotEnvFile.load(path: "/nonexistent/rlm-mcp/.env").isEmpty)
    }
}
