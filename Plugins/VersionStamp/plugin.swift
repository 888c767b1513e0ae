import Foundation
import PackagePlugin

/// Writes the commit the build is of into the target it is applied to, before every build, as
/// `let tesseraBuildCommit = "1a2b3c4d5e6f"` (`.dirty` when tracked files differ from it): from
/// a `COMMIT` file beside Package.swift (what `scripts/dist` puts in a source tarball, which
/// may be unpacked inside some other git repository), else from git, else "unknown". The file is rewritten only when the commit changed, so an unchanged tree
/// rebuilds nothing. (A prebuild command runs on every build; the manifest, which SwiftPM
/// caches, would keep the commit it first saw.)
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "stamp")
        let script = """
            package="$1"; out="$2"
            if [ -f "$package/COMMIT" ]; then
                commit=$(tr -dc '0-9A-Za-z.' < "$package/COMMIT")
            elif commit=$(git -C "$package" rev-parse --short=12 HEAD 2>/dev/null); then
                [ -z "$(git -C "$package" status --porcelain --untracked-files=no 2>/dev/null)" ] \
                    || commit="$commit.dirty"
            else
                commit=unknown
            fi
            mkdir -p "$out"
            text="// Generated before each build by Plugins/VersionStamp.
            let tesseraBuildCommit = \\"$commit\\""
            [ "$(cat "$out/BuildCommit.swift" 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > "$out/BuildCommit.swift"
            """
        return [
            .prebuildCommand(
                displayName: "Stamping the commit into \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "stamp", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output)
        ]
    }
}
