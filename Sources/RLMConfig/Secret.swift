/// A credential that prints as a mask, so it cannot leak through logging or string interpolation by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The raw value; read it only where it is sent to the service it belongs to.
    public let exposedValue: String

    public init(_ value: String) { exposedValue = value }

    public var description: String { "<set, \(exposedValue.count) chars, hidden>" }
    public var debugDescription: String { description }
}
