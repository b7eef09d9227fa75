namespace Collapse.Engine.Families.Gaussian;

/// <summary>How each fit of the Gaussian family is produced.</summary>
public enum GaussianMethod
{
    /// <summary>Draw the n points, then fit them (the paper's procedure).</summary>
    Data,
    /// <summary>Draw the fit from its exact sampling distribution (normal mean, Wishart covariance); Replace and Accumulate only.</summary>
    Wishart,
}
