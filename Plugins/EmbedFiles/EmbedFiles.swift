import Foundation
import PackagePlugin

/// Compiles the files a target serves into the target itself, so that the installed binary
/// never looks for them at run time: a binary copied to `/usr/local/bin` (the self-hosting
/// guide, the systemd unit, the container image) has no build tree or resource bundle beside
/// it, and a lookup that fails there must not be able to end the process.
///
/// Which files each target embeds is listed here, beside the type they become.
@main
struct EmbedFiles: BuildToolPlugin {
    struct Embedding {
        /// The Swift type generated in the target.
        var typeName: String
        /// The folder the files' paths are relative to, from the package root.
        var root: String
        /// Files or folders under `root` (folders taken whole, hidden files skipped).
        var entries: [String]
    }

    static let embeddings: [String: Embedding] = [
        "ChatAPI": Embedding(typeName: "EmbeddedOpenAPI", root: "Sources/ChatAPI", entries: ["openapi.yaml"]),
        "parley": Embedding(typeName: "EmbeddedWebClient", root: "web", entries: ["."]),
    ]

    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let embedding = Self.embeddings[target.name] else { return [] }
        let root = context.package.directoryURL.appending(path: embedding.root)
        var inputs: [URL] = []
        for entry in embedding.entries {
            inputs += try Self.files(at: root.appending(path: entry))
        }
        inputs.sort { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(embedding.typeName).swift")
        return [.buildCommand(
            displayName: "Embedding \(inputs.count) file(s) as \(embedding.typeName)",
            executable: try context.tool(named: "embed-files").url,
            arguments: [output.path, embedding.typeName, root.path] + inputs.map(\.path),
            inputFiles: inputs,
            outputFiles: [output])]
    }

    static func files(at url: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw PluginError.missing(url.path)
        }
        guard isDirectory.boolValue else { return [url] }
        var found: [URL] = []
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey],
                                                        options: [.skipsHiddenFiles])
        while let file = enumerator?.nextObject() as? URL {
            if try file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true { found.append(file) }
        }
        return found
    }

    enum PluginError: Error, CustomStringConvertible {
        case missing(String)
        var description: String {
            switch self { case .missing(let path): "EmbedFiles: \(path) does not exist" }
        }
    }
}
