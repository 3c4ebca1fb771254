using System.Runtime.InteropServices;

namespace Lakehouse.Storage.Native;

/// <summary>
/// link(2): creates a second name for a file, failing with EEXIST when the name is taken. It is the atomic, no-replace
/// publish that put-if-absent needs on a local disk (File.Move without overwrite checks and then renames, which races).
/// </summary>
internal static class PosixLink
{
    /// <summary>errno when the new name exists.</summary>
    internal const int AlreadyExists = 17;

    [DllImport("libc", EntryPoint = "link", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int LinkNative(string oldPath, string newPath);

    /// <summary>0 on success, else the errno.</summary>
    internal static int Link(string oldPath, string newPath) => LinkNative(oldPath, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>True for the errors of file systems without hard links (EPERM, EXDEV, EMLINK, ENOSYS, EOPNOTSUPP on Linux and macOS).</summary>
    internal static bool Unsupported(int errno) => errno is 1 or 18 or 31 or 38 or 45 or 78 or 95;
}
