using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>The groups a user belongs to (getgrouplist(3), NSS included).</summary>
public static unsafe partial class Groups
{
    private const string C = "libc";

    [LibraryImport(C, EntryPoint = "getgrouplist")]
    private static partial int GetGroupList(nint user, uint group, uint* groups, int* count);

    /// <summary>
    /// The groups of <paramref name="uid"/>: its primary group <paramref name="gid"/> and every group that lists it;
    /// null when the user is not in the user database. Not thread-safe (getpwuid): call at start-up.
    /// </summary>
    public static uint[]? Of(uint uid, uint gid)
    {
        Passwd* pw = Libc.GetPwUid(uid);
        if (pw is null || pw->Name == 0)
        {
            return null;
        }

        int count = 64;
        while (true)
        {
            var groups = new uint[count];
            int n = count;
            fixed (uint* g = groups)
            {
                // getgrouplist returns -1 and sets n to the number needed when the array is too small.
                if (GetGroupList(pw->Name, gid, g, &n) >= 0)
                {
                    return groups[..n];
                }
            }

            if (n <= count || n > 65536)
            {
                return null;
            }

            count = n;
        }
    }
}
