namespace Lakehouse.Gold.Alerts;

/// <summary>What <see cref="AlertWebhook.PostAsync"/> delivered and what it could not.</summary>
/// <param name="Delivered">The alerts the receiver acknowledged with a 2xx status, in the order posted.</param>
/// <param name="Failed">The alerts it did not, each with why.</param>
public sealed record WebhookDelivery(IReadOnlyList<Alert> Delivered, IReadOnlyList<WebhookFailure> Failed)
{
    /// <summary>True when every alert was delivered.</summary>
    public bool AllDelivered => Failed.Count == 0;
}

/// <summary>An alert the webhook did not accept.</summary>
/// <param name="Alert">The alert.</param>
/// <param name="Reason">Why, for an operator: the last HTTP status or network error, or that it was not tried.</param>
/// <param name="Attempts">How many requests were sent for it (0 when it was not tried because the endpoint was down).</param>
/// <param name="StatusCode">The last HTTP status received, if any.</param>
public sealed record WebhookFailure(Alert Alert, string Reason, int Attempts, int? StatusCode);
