namespace Lakehouse.Pipelines.Adf;

/// <summary>
/// The dependsOn graph of one container of activities (a pipeline's top level, or a ForEach, Until, IfCondition branch or
/// Switch case): ADF scopes dependsOn to siblings. <c>adf validate</c> and the local runner both check it with this.
/// </summary>
internal static class ActivityGraph
{
    /// <summary>
    /// The names of the activities that reach themselves by following dependsOn among their siblings: the activities of each
    /// circle, not those that merely depend on one. A name given twice keeps its first activity's upstream names; names of no
    /// sibling are ignored (another rule reports them).
    /// </summary>
    /// <param name="activities">Each sibling's name and the names it depends on, in file order.</param>
    internal static HashSet<string> InCircles(IEnumerable<(string Name, IEnumerable<string> Upstream)> activities)
    {
        var graph = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, upstream) in activities) graph.TryAdd(name, [.. upstream]);
        var circular = new HashSet<string>(StringComparer.Ordinal);
        foreach (var self in graph.Keys)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var next = new Stack<string>(graph[self]);
            while (next.TryPop(out var name))
            {
                if (name == self)
                {
                    circular.Add(self);
                    break;
                }
                if (seen.Add(name) && graph.TryGetValue(name, out var upstream)) foreach (var u in upstream) next.Push(u);
            }
        }
        return circular;
    }
}
