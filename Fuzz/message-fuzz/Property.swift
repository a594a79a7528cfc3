import Foundation
#if !FUZZING
// The libFuzzer build (scripts/fuzz.sh) compiles JSONRPCWire's sources into this module instead.
import JSONRPCWire
#endif

/// The property under test: any bytes give a classification or a rejection, and a rejection carries one of the three
/// codes the JSON-RPC spec names for malformed input and a message; no crash, no hang, no stack overflow.
func checkOne(_ data: Data) {
    if case .failure(let rejection) = MessageCheck.check(data) {
        precondition([-32700, -32600, -32602].contains(rejection.code), "unexpected code \(rejection.code)")
        precondition(!rejection.message.isEmpty)
    }
}
