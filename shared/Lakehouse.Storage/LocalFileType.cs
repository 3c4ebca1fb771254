using System.Runtime.InteropServices;

namespace Lakehouse.Storage;

/// <summary>
/// Whether a local path is a regular file. .NET lists FIFOs, devices and sockets as files, and opening a FIFO for reading blocks
/// until a writer comes (a landing folder holding one hung <c>bronze ingest</c>, beyond Ctrl+C); /dev/zero never ends.
/// </summary>
public static partial class LocalFileType
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x0001;
    private const int ModeOffset = 28; // struct statx: stx_mask, stx_blksize (u32), stx_attributes (u64), stx_nlink, stx_uid, stx_gid (u32), stx_mode (u16)
    private const int TypeMask = 0xF000;
    private const int Regular = 0x8000;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);

    /// <summary>
    /// False only when the path (a symbolic link followed) is known to be something other than a regular file; true for a regular
    /// file, and where the type cannot be told (not Linux, or the call fails: the read then says what is wrong).
    /// </summary>
    public static bool IsRegularOrUnknown(string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        var buffer = new byte[256];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }
        return (MemoryMarshal.Read<ushort>(buffer.AsSpan(ModeOffset)) & TypeMask) == Regular;
    }
}
