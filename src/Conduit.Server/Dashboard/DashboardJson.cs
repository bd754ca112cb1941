using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Conduit.Server.Dashboard;

/// <summary>The JSON of the dashboard's API: camelCase, enums as names, errors as <c>{"error": code, "message": text}</c>.</summary>
internal static class DashboardJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static IResult Ok(object value) => Results.Json(value, Options);

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = code, message }, Options, statusCode: status);

    public static IResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, nameof(ErrorCode.InvalidArgument), message);

    /// <summary>The node's reply as JSON when it is a <typeparamref name="T"/> (shaped by <paramref name="shape"/>); a refusal with its status.</summary>
    public static IResult Answer<T>(object reply, Func<T, object>? shape = null) => reply switch
    {
        T value => Ok(shape is null ? value : shape(value)),
        Rejected refused => Error(StatusOf(refused.Code), refused.Code.ToString(), refused.Message),
        var other => Error(StatusCodes.Status502BadGateway, "UnexpectedReply", $"the node answered {other.GetType().Name}"),
    };

    public static int StatusOf(ErrorCode code) => code switch
    {
        ErrorCode.InvalidQueueName or ErrorCode.InvalidArgument or ErrorCode.InvalidNamespace or ErrorCode.PayloadTooLarge
            or ErrorCode.UnknownLease or ErrorCode.LeaseExpired => StatusCodes.Status400BadRequest,
        ErrorCode.TaskNotFound or ErrorCode.ScheduleNotFound => StatusCodes.Status404NotFound,
        ErrorCode.Unauthorized => StatusCodes.Status403Forbidden,
        ErrorCode.QuotaExceeded => StatusCodes.Status429TooManyRequests,
        ErrorCode.HistoryOff => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status503ServiceUnavailable,
    };
}
