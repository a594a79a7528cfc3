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

    /// A variable's value and the name of the layer it came from.
    public struct Found: Sendable, Equatable {
        public let value: String
        public let source: String
    }

    /// The value and the name of the layer it came from; empty strings count as unset.
    public func lookup(_ name: String) -> Found? {
        for layer in layers {
            if let value = layer.values[name], !value.isEmpty { return Found(value: value, source: layer.name) }
        }
        return nil
    }

    public subscript(_ name: String) -> String? { lookup(name)?.value }

    /// Every set variable whose name starts with `prefix`, each from the first layer that sets it.
    public func values(named prefix: String) -> [String: String] {
        var found: [String: String] = [:]
        for layer in layers {
            for (name, value) in layer.values where name.hasPrefix(prefix) && !value.isEmpty && found[name] == nil {
                found[name] = value
            }
        }
        return found
    }

    /// The standard precedence: flags > process environment > each `--env-file` in the order given > the user's own
    /// file (`$XDG_CONFIG_HOME/rlm-mcp/env`, else `~/.config/rlm-mcp/env`).
    ///
    /// Files come only from places the user chose: never from the working directory, which a client may set to any
    /// cloned repository (whose `.env` could point the model base URL at a listener of its choice, or switch the
    /// sandbox's isolation off). A named file that does not exist is an error; the user's own file is optional.
    public static func standard(
        flags: [String: String],
        environment: [String: String],
        envFiles: [String] = []
    ) throws(ConfigError) -> LayeredVariables {
        var layers = [Layer(name: "flag", values: flags), Layer(name: "environment", values: environment)]
        for path in envFiles {
            guard FileManager.default.fileExists(atPath: path) else {
                throw .unreadableFile(path: path, reason: "no such file (named with --env-file)")
            }
            layers.append(Layer(name: path, values: try DotEnvFile.load(path: path)))
        }
        if let userFile = userConfigFile(environment: environment) {
            layers.append(Layer(name: userFile, values: try DotEnvFile.load(path: userFile)))
        }
        return LayeredVariables(layers: layers)
    }

    /// `$XDG_CONFIG_HOME/rlm-mcp/env` (or `$HOME/.config/rlm-mcp/env`); nil when neither variable is set.
    public static func userConfigFile(environment: [String: String]) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/rlm-mcp/env" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.config/rlm-mcp/env" }
        return nil
    }
}
