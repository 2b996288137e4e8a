using System.ComponentModel.DataAnnotations;

namespace TaskResults.Tests.Support;

/// <summary>What the service's start-up validation would say of an options object: its data annotations and its own Validate.</summary>
public static class OptionsValidation
{
    public static List<string> Problems(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? "").ToList();
    }
}
