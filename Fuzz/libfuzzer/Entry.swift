import Foundation

/// libFuzzer's entry point (its own `main` drives it): see scripts/fuzz.sh.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    checkOne(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}
