using Cordon.Profiles;
using Xunit;

namespace Cordon.Profiles.Tests;

public class PortableTests
{
    [Theory]
    [InlineData("/home/me/proj", ".")]
    [InlineData("/home/me/proj/package.json", "./package.json")]
    [InlineData("/home/me/proj/**/*.js", "./**/*.js")]
    [InlineData("/home/me/.npm", "~/.npm")]
    [InlineData("/home/me", "~")]
    [InlineData("/home/me/project2/x", "~/project2/x")] // a sibling of the project is not in it
    [InlineData("/usr/lib/node", "/usr/lib/node")]
    [InlineData("only:/home/me", "only:~")]
    [InlineData("only:/home/me/proj/src", "only:./src")]
    public void Paths_in_the_project_and_the_home_are_written_relative(string value, string expected) =>
        Assert.Equal(expected, Portable.Path(value, "/home/me", "/home/me/proj"));

    [Theory]
    [InlineData("/home/me/.ssh/id_rsa", "~/.ssh/id_rsa")]
    [InlineData("/home/me/x", "~/x")]
    public void A_project_that_is_the_home_gives_home_forms(string value, string expected) =>
        Assert.Equal(expected, Portable.Path(value, "/home/me", "/home/me"));

    [Fact]
    public void A_portable_profile_loads_back_to_the_same_paths()
    {
        var text = new[] { "./package.json", "~/.npm", "only:~" }
            .Aggregate(Profile.Empty("p"), (p, v) => p.With(new ProfileEntry(Cordon.Policy.AccessKind.Read, Cordon.Policy.Verdict.Allow, v)))
            .Render();
        var rules = Profile.Parse(text, "p", "p.yaml", new Resolver()).Rules(new Resolver());
        Assert.Equal(["/home/u/project/package.json", "/home/u/.npm", "only:/home/u"], rules.Select(r => r.Descriptor.Text));
    }
}
