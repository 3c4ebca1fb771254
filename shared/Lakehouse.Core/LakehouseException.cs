namespace Lakehouse.Core;

/// <summary>Why a lakehouse operation failed; lets callers decide between retrying, fixing input and giving up.</summary>
public enum LakehouseErrorReason
{
    /// <summary>The SQL engine rejected or failed a statement.</summary>
    Engine,
    /// <summary>The storage service failed (network, throttling, server error).</summary>
    Storage,
    /// <summary>A file, table or version does not exist.</summary>
    NotFound,
    /// <summary>Put-if-absent found the object already there.</summary>
    AlreadyExists,
    /// <summary>A conditional write found the object changed.</summary>
    PreconditionFailed,
    /// <summary>A concurrent transaction committed changes that conflict with this one.</summary>
    Conflict,
    /// <summary>The table uses a protocol version or feature this reader or writer does not support.</summary>
    UnsupportedFeature,
    /// <summary>The table's transaction log is broken: missing, non-contiguous or unparseable.</summary>
    CorruptLog,
    /// <summary>An argument or input is invalid.</summary>
    InvalidInput,
    /// <summary>
    /// The lakehouse failed in a way it does not classify: an exception of the platform under it (a state store's driver, the
    /// file system) or a bug. Not a problem of the input, and not known to pass on a retry.
    /// </summary>
    Internal,
}

/// <summary>The one exception family of the lakehouse. <see cref="IsTransient"/> says whether retrying may help.</summary>
public sealed class LakehouseException : Exception
{
    /// <summary>Creates an exception with a reason and a message that names the problem.</summary>
    public LakehouseException(LakehouseErrorReason reason, string message, Exception? innerException = null, bool? isTransient = null)
        : base(message, innerException)
    {
        Reason = reason;
        IsTransient = isTransient ?? reason is LakehouseErrorReason.Storage or LakehouseErrorReason.Conflict;
    }

    /// <summary>Creates an exception with reason <see cref="LakehouseErrorReason.InvalidInput"/>.</summary>
    public LakehouseException() : this(LakehouseErrorReason.InvalidInput, "Invalid input.") { }

    /// <summary>Creates an exception with reason <see cref="LakehouseErrorReason.InvalidInput"/>.</summary>
    public LakehouseException(string message) : this(LakehouseErrorReason.InvalidInput, message) { }

    /// <summary>Creates an exception with reason <see cref="LakehouseErrorReason.InvalidInput"/>.</summary>
    public LakehouseException(string message, Exception innerException) : this(LakehouseErrorReason.InvalidInput, message, innerException) { }

    /// <summary>Why the operation failed.</summary>
    public LakehouseErrorReason Reason { get; }

    /// <summary>True when the same call may succeed if retried (throttling, a lost commit race).</summary>
    public bool IsTransient { get; }
}
