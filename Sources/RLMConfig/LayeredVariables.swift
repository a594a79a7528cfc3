import Foundation

/// Looks a variable up through ordered layers (flags, environment, `.env.local`, `.env`) and remembers which layer answered.
public struct LayeredVariables: Sendable {
    public struct Layer: Sendable {
        public let name: String
        public let values: [String: String]
        public init(name: String, values: [String: String]) {
            self.name = name
            self.values = values
        }
    }

    public let layers: [Layer]

    public init(layers: [Layer]) { self.layers = layers }

    /// The value and the name of the layer it came from; empty strings count as unset.
    public func lookup(_ name: String) -> (value: String, source: String)? {
        for layer in layers {
            if let value = layer.values[name], !value.isEmpty { return (value, layer.name) }
        }
        return nil
    }

    public subscript(_ name: String) -> String? { lookup(name)?.value }

    /// The standard precedence: flags > process environment > `<directory>/.env.local` > `<directory>/.env`.
    public static func standard(
        flags: [String: String],
        environment: [String: String],
        directory: String
    ) throws(ConfigError) -> LayeredVariables {
        let base = URL(fileURLWithPath: directory)
        let local = base.appendingPathComponent(".env.local").path
        let shared = base.appendingPathComponent(".env").path
        return LayeredVariables(layers: [
            Layer(name: "flag", values: flags),
            Layer(name: "environment", values: environment),
            Layer(name: ".env.local", values: try DotEnvFile.load(path: local)),
            Layer(name: ".env", values: try DotEnvFile.load(path: shared)),
        ])
    }
}
