import Foundation
import PackagePlugin

/// Compiles a copy of the data files a target serves into it: content/ and seeds/ into Content,
/// scenarios/ into Experiments. A `mqproof` binary copied anywhere, away from the source tree,
/// still serves every question and runs every scenario.
///
/// The plugin only lists the files; `ContentEmbedder` writes the Swift source. SwiftPM reruns the
/// command whenever one of the listed files changes, and the plugin itself runs on every build,
/// so a new file is picked up too.
@main
struct EmbedContent: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let inputs: [URL]
        let typeName: String
        switch target.name {
        case "Experiments":
            typeName = "EmbeddedScenarios"
            inputs = try embeddableFiles(below: root.appending(path: "scenarios"), extensions: ["yaml"])
        default:
            typeName = "EmbeddedContent"
            inputs =
                try embeddableFiles(below: root.appending(path: "content"), extensions: ["yaml"])
                + embeddableFiles(below: root.appending(path: "seeds"), extensions: ["txt", "md"])
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) files into \(target.name)",
                executable: try context.tool(named: "ContentEmbedder").url,
                arguments: [output.path, root.path, typeName] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }

    private func embeddableFiles(below folder: URL, extensions: Set<String>) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            return []
        }
        return walker.compactMap { $0 as? URL }
            .filter { extensions.contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
    }
}
