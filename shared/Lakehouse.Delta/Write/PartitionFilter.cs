using System.Text;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>Evaluates a SQL predicate over partition values (replaceWhere, DELETE on partitions, OPTIMIZE filters, conflict checks).</summary>
internal static class PartitionFilter
{
    /// <summary>
    /// The indexes of <paramref name="tuples"/> for which <paramref name="predicate"/> is true, with the partition columns
    /// typed as in the schema. A predicate that names anything but partition columns fails with an Engine error.
    /// </summary>
    internal static HashSet<int> Evaluate(DuckConnection connection, StructType schema, IReadOnlyList<string> partitionColumns,
        IReadOnlyList<IReadOnlyDictionary<string, string?>> tuples, string predicate)
    {
        var matches = new HashSet<int>();
        if (tuples.Count == 0) return matches;
        var table = "__lakehouse_pf_" + Guid.NewGuid().ToString("N")[..16];
        var columns = new StringBuilder("__lakehouse_i BIGINT");
        for (var c = 0; c < partitionColumns.Count; c++) columns.Append(", __lakehouse_v").Append(c).Append(" VARCHAR");
        connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(table)}({columns})");
        try
        {
            using (var appender = connection.CreateAppender(table))
            {
                for (var i = 0; i < tuples.Count; i++)
                {
                    appender.Append((long)i);
                    foreach (var c in partitionColumns) appender.Append(PartitionEncoding.Lookup(tuples[i], c));
                    appender.EndRow();
                }
                appender.Close();
            }
            var typed = new StringBuilder("SELECT __lakehouse_i");
            for (var c = 0; c < partitionColumns.Count; c++)
            {
                var field = schema.Find(partitionColumns[c])!;
                typed.Append(", ").Append(PartitionEncoding.ParseSql("__lakehouse_v" + c, field.Type)).Append(" AS ").Append(SqlText.Identifier(field.Name));
            }
            using var r = connection.Query($"SELECT __lakehouse_i FROM ({typed} FROM {SqlText.Identifier(table)}) AS __p WHERE ({predicate})");
            while (r.Read()) matches.Add((int)r.GetInt64(0));
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {SqlText.Identifier(table)}");
        }
        return matches;
    }
}
