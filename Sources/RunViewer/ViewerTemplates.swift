import Foundation
import Mustache

/// The viewer's Mustache templates, loaded once from the bundle. Every variable is written `{{name}}`, which
/// HTML-escapes it: model replies, code, output and tasks are untrusted and must render as text.
struct ViewerTemplates: Sendable {
    let library: MustacheLibrary

    init() throws(ViewerError) {
        var library = MustacheLibrary()
        for name in ["list", "run", "step", "login"] {
            guard let url = Bundle.module.url(forResource: name, withExtension: "mustache", subdirectory: "Templates"),
                  let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw .missingResource("Templates/\(name).mustache")
            }
            do {
                try library.register(text, named: name)
            } catch {
                throw .badTemplate(name: name, reason: "\(error)")
            }
        }
        self.library = library
    }

    func render(_ page: some Sendable, as name: String) -> String {
        library.render(page, withTemplate: name) ?? ""
    }

    /// The files under /runs/static/, by exact name: nothing else in the bundle (or beside it) is ever served.
    static let staticFiles = ["viewer.js": ("viewer", "js"), "viewer.css": ("viewer", "css")]

    /// A static file (`viewer.js`, `viewer.css`) from the bundle.
    static func staticFile(_ name: String) -> Data? {
        guard let (base, ext) = staticFiles[name],
              let url = Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Static") else { return nil }
        return try? Data(contentsOf: url)
    }
}

/// The viewer could not start; each case says what is wrong with the build.
public enum ViewerError: Error, CustomStringConvertible {
    case missingResource(String)
    case badTemplate(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missingResource(path): "the viewer's \(path) is missing from the build; rebuild rlm-mcp"
        case let .badTemplate(name, reason): "the viewer's template \(name) does not parse: \(reason)"
        }
    }
}
