using System.Collections;

namespace Ember.Distributed;

/// <summary>
/// The rank and world size an MPI launcher hands a process through its environment: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE, Hydra (MPICH, Intel MPI) sets PMI_RANK/PMI_SIZE.
/// </summary>
internal readonly record struct LaunchEnvironment(int Rank, int WorldSize, string Source)
{
    /// <summary>Reads the launcher's variables; null when the process was not started by a launcher.</summary>
    public static LaunchEnvironment? Read(IDictionary variables)
    {
        return Pair(variables, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE") ?? Pair(variables, "PMI_RANK", "PMI_SIZE");
    }

    /// <summary>Reads the current process's environment.</summary>
    public static LaunchEnvironment? Read() => Read(Environment.GetEnvironmentVariables());

    static LaunchEnvironment? Pair(IDictionary variables, string rankName, string sizeName)
    {
        var rankText = variables[rankName] as string;
        var sizeText = variables[sizeName] as string;
        if (rankText is null && sizeText is null) return null;
        if (!int.TryParse(rankText, out int rank) || !int.TryParse(sizeText, out int size) || size < 1 || rank < 0 || rank >= size)
            throw new DistributedException(
                $"InitProcessGroup: the launcher's environment is inconsistent: {rankName}='{rankText}', {sizeName}='{sizeText}' " +
                "(expected 0 <= rank < size)");
        return new LaunchEnvironment(rank, size, $"{rankName}/{sizeName}");
    }
}
